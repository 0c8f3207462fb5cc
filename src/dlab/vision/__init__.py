"""Image tools written for the vision labs (no torchvision): batched data augmentation."""
