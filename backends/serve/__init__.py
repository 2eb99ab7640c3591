"""`gateroom serve`: the Gate Room over SSH, one terminal app per connection, roles by key."""
