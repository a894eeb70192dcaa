"""PAM edge: the pam_tesserad.so module, its wire protocol and the daemon-side listener."""
