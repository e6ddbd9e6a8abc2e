"""Where a run's records go besides the chart: one protocol (``base.Output``), the list that keeps one
failing output from stopping training or the others (``fanout``), and the destinations."""
