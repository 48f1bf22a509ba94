"""Client suites: openstacksdk, the openstack CLI and Terraform bodies against vpnaas serve."""
