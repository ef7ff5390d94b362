"""(being written) command line: layergraph demo | summary | bench"""

def main(argv=None):
    print("layergraph: demo not written yet")
    return 0
