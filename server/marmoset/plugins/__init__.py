"""Marmoset's plugins, one module each (Monkey's set: liana, cheetah, mandril, ...)."""
