# Scanning stations: one per drop-box site (the sites of config/routing.json). A station signs
# its requests to intake-api with its own key, kept as a SecureString under
# station_key_prefix/<station>; keys are made, rotated and revoked with `intake station key` and
# `intake station revoke`, never by Terraform (a key in the state would be one more copy to
# guard). Batches that do not complete in batch_overdue_minutes are flagged by notify, which a
# schedule runs every 15 minutes (schedules.tf).

locals {
  station_key_prefix = "/${var.name}/stations/"
  stations           = { for site in local.routing.sites : site.id => site.address }
}
