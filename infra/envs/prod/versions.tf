terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state holds the generated webhook token: keep it in a private bucket.
  #   terraform init -backend-config="bucket=<state-bucket>" -backend-config="prefix=burnback/prod"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = "burnback"
    env = "prod"
  }
}
