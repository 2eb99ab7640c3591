"""Running the plan's scenarios: apply labels on GitHub, watch the cluster and the issue react."""
