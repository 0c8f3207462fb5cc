"""Generative models: the yardstick that scores generated images, autoencoder building blocks,
image grids."""
