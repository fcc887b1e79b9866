"""Deployment side of accel: the stream packer shared by testbenches and the PYNQ driver."""
