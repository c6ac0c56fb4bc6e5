"""The notebook's kernel: its interpreter, what it has installed (cached), what it loaded."""
