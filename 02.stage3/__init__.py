"""Stage 3: gated model retraining, live ad targeting, SMS offers (import name of 02.stage3/)."""
