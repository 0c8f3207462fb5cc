"""Image tools written for the vision labs (no torchvision): batched data augmentation,
classifier fitting, generated scenes for detection and segmentation."""
