"""The pure recon domain: values in, values out; no I/O, no clock reads."""
