"""What the tests share: fixtures' helpers, real services started for a test (gnome-keyring,
OpenBao, dockerd), fakes of what cannot run here (1Password), and probes."""
