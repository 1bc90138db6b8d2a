"""Generated video: latent walks through an image generator (moviola latentwalk), beat tracking."""
