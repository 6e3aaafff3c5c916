"""In-memory stand-ins for the activities' ports, for unit tests of the rules behind them."""
