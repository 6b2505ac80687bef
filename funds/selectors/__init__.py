"""Reads of the funds registers, the fund overview and the collective-income pages."""
