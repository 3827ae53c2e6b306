"""`/api/v2`: resources whose representation changed incompatibly since v1 (step 06)."""
