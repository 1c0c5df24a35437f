"""Core: errors, configuration, schema names, geodesy and bad-record types. Imports nothing of tracker."""
