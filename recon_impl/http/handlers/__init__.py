"""Handlers named by the specs' operationIds; each translates HTTP to one service call."""
