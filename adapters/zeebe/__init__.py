"""Zeebe front-end: gateway_protocol.Gateway, the BPMN engine and its FEEL evaluator."""
