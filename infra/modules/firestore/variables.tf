variable "project_id" {
  description = "Google Cloud project of the Firestore database."
  type        = string
}

variable "location_id" {
  description = "Firestore location: a multi-region such as nam5 or eur3, or a region such as us-central1. It cannot be changed after creation."
  type        = string
  default     = "nam5"
}

variable "point_in_time_recovery" {
  description = "Keep 7 days of point-in-time recovery for the database (decisions and rollbacks are an audit trail)."
  type        = bool
  default     = true
}
