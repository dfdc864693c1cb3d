output "landing_bucket" {
  description = "Upload objects here under a table prefix."
  value       = module.floe.buckets["landing"]
}

output "buckets" {
  description = "All buckets."
  value       = module.floe.buckets
}

output "functions" {
  description = "Lambda function names."
  value       = module.floe.functions
}

output "queues" {
  description = "Queue URLs."
  value       = module.floe.queues
}
