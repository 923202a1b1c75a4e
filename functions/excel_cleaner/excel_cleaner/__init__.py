"""The Excel cleaner: an uploaded workbook becomes one clean CSV per sheet, or is quarantined."""
