"""The five panes of the control room."""
