"""Tools: registry, router, HTTP and Python tools, and parsers for the tool calls models write."""
