"""The spec book: features read as documentation, their coverage of the machine, the diagram."""
