// Parameters of one installation: copy, set the values marked CHANGE, then
//   az deployment group create -g rg-backup-fix -f deploy/azure/main.bicep -p <your copy>
using 'main.bicep'

param image = 'contosoregistry.azurecr.io/backup-fix:0.1.0' // CHANGE
param registryServer = 'contosoregistry.azurecr.io' // CHANGE, or '' for a public image
param identityName = 'id-backup-fix' // CHANGE
param keyVaultName = 'kv-backup-fix' // CHANGE
param vaultIds = [
  '/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/vault-prod' // CHANGE
]
param approvers = [
  'S0123ABCDEF' // CHANGE: a Slack user group of on-call engineers
]
param enabledActions = [
  'trigger_backup'
  'cancel_job'
  'remove_snapshot_extension'
]
// Remediations need the signing key: this Key Vault secret must exist (deploy/README.md, 7.6).
param signingKeySecret = 'backup-fix-signing-key'
param minReplicas = 2

// Proactive (deploy/README.md, "Proactive"): off as long as these stay unset. For example:
// param alertTokenSecret = 'backup-fix-alert-token'
// param alertChannel = 'C0123ALERTS'
// param alertRoutes = [
//   '/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-sql=C0123SQLTEAM'
// ]
// param graphScopes = [
//   'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
// ]
