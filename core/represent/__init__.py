"""Item vectors side by side: representations, recommendation, ANN, maps and simulated shoppers."""
