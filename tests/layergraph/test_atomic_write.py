"""write_file / write_new_file: atomic, permission-keeping, symlink-following saves."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile

import pytest

from layergraph import atomic_write
from layergraph.layers.errors import MException


def _writer(data: bytes):
    return lambda f: f.write(data)


def _entries(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write.write_file(str(tmp_path / "a.bin"), _writer(b"x"), "saveNetwork")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o640
    assert _entries(tmp_path) == ["a.bin"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_replacing_keeps_the_permission_bits(tmp_path, mode):
    path = tmp_path / "net.lgnet"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    atomic_write.write_file(str(path), _writer(b"new"), "saveNetwork")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "models" / "net.lgnet"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.lgnet"
    link.symlink_to(real)
    written = atomic_write.write_file(str(link), _writer(b"new"), "saveNetwork")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new" and written == str(real)
    assert _entries(tmp_path) == ["latest.lgnet", "models"]


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.lgnet"
    link.symlink_to(tmp_path / "target.lgnet")
    atomic_write.write_file(str(link), _writer(b"new"), "saveNetwork")
    assert link.is_symlink() and (tmp_path / "target.lgnet").read_bytes() == b"new"


def test_read_only_file_is_refused_and_kept(tmp_path):
    path = tmp_path / "net.lgnet"
    path.write_bytes(b"old")
    os.chmod(path, 0o444)
    with pytest.raises(MException, match="read-only") as err:
        atomic_write.write_file(str(path), _writer(b"new"), "saveNetwork")
    assert err.value.identifier == "layergraph:saveNetwork:CannotWriteFile"
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["net.lgnet"]


def test_read_only_target_of_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real.lgnet"
    real.write_bytes(b"old")
    os.chmod(real, 0o444)
    (tmp_path / "link.lgnet").symlink_to(real)
    with pytest.raises(MException, match="read-only"):
        atomic_write.write_file(str(tmp_path / "link.lgnet"), _writer(b"new"), "saveNetwork")
    assert real.read_bytes() == b"old"


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root to switch to an unprivileged user")
def test_unprivileged_user_is_refused_a_file_it_cannot_write():
    """As 'nobody' in a world-writable folder: the rename would succeed, the check refuses."""
    folder = tempfile.mkdtemp(dir="/tmp")
    try:
        os.chmod(folder, 0o777)
        theirs = os.path.join(folder, "theirs.lgnet")   # owned by root, 0644: not writable
        with open(theirs, "wb") as f:
            f.write(b"old")
        os.chmod(theirs, 0o644)
        mine = os.path.join(folder, "mine.lgnet")
        pid = os.fork()
        if pid == 0:   # child: never returns into pytest
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                try:
                    atomic_write.write_file(theirs, _writer(b"new"), "saveNetwork")
                    code = 2
                except MException as err:
                    code = 0 if "read-only" in str(err) else 3
                atomic_write.write_file(mine, _writer(b"mine"), "saveNetwork")
            except BaseException:
                code = 4
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert open(theirs, "rb").read() == b"old"
        assert os.stat(mine).st_uid == 65534 and open(mine, "rb").read() == b"mine"
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("make, why", [
    (lambda p: p.mkdir(), "it is a folder"),
    (lambda p: None, "its folder does not exist"),
])
def test_folder_and_missing_folder_are_refused(tmp_path, make, why):
    path = tmp_path / "x"
    make(path)
    target = path if why == "it is a folder" else path / "sub" / "net.lgnet"
    with pytest.raises(MException, match=why):
        atomic_write.write_file(str(target), _writer(b"new"), "saveNetwork")


def test_non_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(MException, match="not a regular file"):
        atomic_write.write_file(str(fifo), _writer(b"new"), "saveNetwork")


def test_longest_file_name_can_be_written(tmp_path):
    path = tmp_path / ("n" * 249 + ".lgnet")        # 255 characters
    atomic_write.write_file(str(path), _writer(b"x"), "saveNetwork")
    assert path.read_bytes() == b"x" and _entries(tmp_path) == [path.name]


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_write_keeps_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "net.lgnet"
    path.write_bytes(b"old")

    def interrupted(f):
        f.write(b"partial")
        raise error()
    with pytest.raises(error):
        atomic_write.write_file(str(path), interrupted, "saveNetwork")
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["net.lgnet"]


def test_disk_full_is_an_mexception_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "net.lgnet"
    path.write_bytes(b"old")

    def disk_full(f):
        raise OSError(28, "No space left on device")
    with pytest.raises(MException, match="No space left") as err:
        atomic_write.write_file(str(path), disk_full, "saveNetwork")
    assert err.value.identifier == "layergraph:saveNetwork:CannotWriteFile"
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["net.lgnet"]


def test_interrupt_during_the_rename_removes_the_temporary(tmp_path, monkeypatch):
    def interrupted_replace(src, dst):
        raise KeyboardInterrupt()
    monkeypatch.setattr(atomic_write.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        atomic_write.write_file(str(tmp_path / "net.lgnet"), _writer(b"x"), "saveNetwork")
    assert _entries(tmp_path) == []


def test_content_is_synced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic_write.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(atomic_write.os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b)))
    atomic_write.write_file(str(tmp_path / "net.lgnet"), _writer(b"x"), "saveNetwork")
    assert events[:2] == ["fsync", "replace"]
    assert events.count("fsync") == 2        # the file, then the folder (the rename)


def test_new_file_takes_the_first_free_name_and_never_replaces(tmp_path):
    names = [str(tmp_path / f"c{k}.lgnet") for k in range(4)]
    open(names[0], "wb").write(b"first run")
    got = [atomic_write.write_new_file(names, _writer(f"run {k}".encode()), "trainNetwork")
           for k in range(2)]
    assert got == names[1:3]
    assert [open(n, "rb").read() for n in names[:3]] == [b"first run", b"run 0", b"run 1"]
    assert _entries(tmp_path) == ["c0.lgnet", "c1.lgnet", "c2.lgnet"]


def test_new_file_loses_a_race_without_clobbering(tmp_path, monkeypatch):
    """Another process creates the name between the existence check and the link."""
    names = [str(tmp_path / "a.lgnet"), str(tmp_path / "b.lgnet")]
    real_link = os.link

    def racing_link(src, dst):
        if dst == names[0] and not os.path.exists(dst):
            open(dst, "wb").write(b"other run")
        return real_link(src, dst)
    monkeypatch.setattr(atomic_write.os, "link", racing_link)
    assert atomic_write.write_new_file(names, _writer(b"mine"), "trainNetwork") == names[1]
    assert open(names[0], "rb").read() == b"other run"
    assert _entries(tmp_path) == ["a.lgnet", "b.lgnet"]


def test_new_file_without_hard_links_uses_an_exclusive_create(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(1, "Operation not permitted")
    monkeypatch.setattr(atomic_write.os, "link", no_links)
    names = [str(tmp_path / "a.lgnet"), str(tmp_path / "b.lgnet")]
    open(names[0], "wb").write(b"other run")
    assert atomic_write.write_new_file(names, _writer(b"mine"), "trainNetwork") == names[1]
    assert open(names[1], "rb").read() == b"mine" and _entries(tmp_path) == ["a.lgnet", "b.lgnet"]
