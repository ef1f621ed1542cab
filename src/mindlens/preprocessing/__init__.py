"""Text preprocessing that never moves character offsets."""
