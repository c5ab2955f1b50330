"""Arrow columns read as a feature's type (numbers or labels, with missing and invalid
masks), and bounded uniform samples of rows and values."""
