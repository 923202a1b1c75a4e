"""The SPICE target: which QuickSight dataset a clean CSV refreshes."""
