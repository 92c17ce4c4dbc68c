// backup-fix on Azure Container Apps: user-assigned identity, Slack secrets as Key Vault
// references, HTTP on 3000 behind the app's ingress, two or more replicas sharing PostgreSQL,
// and the custom role (role-definition.json, nothing more) assigned on the vaults' subscriptions.
// The ingress routes to port 3000 only (/slack/events, /azure/alerts); the probes and /metrics
// answer on probePort, which nothing outside the replica reaches unless metricsInEnvironment.
// Proactive posting (Azure Monitor alerts on /azure/alerts, Resource Graph polling) stays off
// until its parameters are set; with graphScopes the identity also gets Reader on those
// subscriptions (Resource Graph returns only rows the caller may read).
//
// Deploy into the bot's resource group, after the Key Vault holds the secrets (four, five with
// the alert token) and the PostgreSQL server exists (deploy/README.md walks through every step):
//   az deployment group create -g rg-backup-fix -f deploy/azure/main.bicep -p deploy/azure/example.bicepparam
targetScope = 'resourceGroup'

@description('Azure region of everything this template creates.')
param location string = resourceGroup().location

@description('Name of the container app; the environment and workspace are named after it.')
@minLength(3)
@maxLength(20)
param name string = 'backup-fix'

@description('User-assigned managed identity (in this resource group) the bot runs as.')
param identityName string

@description('Container image, e.g. contosoregistry.azurecr.io/backup-fix:0.1.0.')
param image string

@description('Login server of the registry the image comes from; empty for a public image.')
param registryServer string = ''

@description('Key Vault (RBAC authorization, in this resource group) that holds the secrets.')
param keyVaultName string

@description('Key Vault secret holding SLACK_BOT_TOKEN (xoxb-...).')
param slackBotTokenSecret string = 'slack-bot-token'

@description('Key Vault secret holding SLACK_SIGNING_SECRET.')
param slackSigningSecretSecret string = 'slack-signing-secret'

@description('Key Vault secret holding BACKUP_FIX_DATABASE_URL (postgresql://...; sslmode=require).')
param databaseUrlSecret string = 'backup-fix-database-url'

@description('Key Vault secret holding BACKUP_FIX_SIGNING_KEY (openssl rand -base64 48): keys approvals and the audit chain.')
param signingKeySecret string = 'backup-fix-signing-key'

@description('Key Vault secret holding BACKUP_FIX_ALERT_TOKEN (the ?token= of the alert webhook); empty: no token form.')
param alertTokenSecret string = ''

@description('Recovery Services vault resource ids the bot may read and act on (BACKUP_FIX_VAULTS).')
param vaultIds array = []

@description('Slack user (U/W) and user-group (S) ids who may approve (BACKUP_FIX_APPROVERS).')
param approvers array = []

@description('Remediations that may be offered and run (BACKUP_FIX_ENABLED_ACTIONS).')
param enabledActions array = []

@description('Channel ids where pastes are answered unasked; empty: every channel (BACKUP_FIX_CHANNELS).')
param channels array = []

@description('Channel ids where Azure features (VM menu, diagnostics, requests, approvals) work; empty: every channel (BACKUP_FIX_ACTION_CHANNELS).')
param actionChannels array = []

@description('Minutes an approval card stays valid (BACKUP_FIX_APPROVAL_TTL_MINUTES).')
@minValue(1)
@maxValue(1440)
param approvalTtlMinutes int = 30

@description('A new approval card mentions the approvers (BACKUP_FIX_NOTIFY_APPROVERS).')
param notifyApprovers bool = true

@description('Reaction name that asks the bot to explain a message; empty: reactions ignored (BACKUP_FIX_EXPLAIN_EMOJI).')
param explainEmoji string = ''

@description('Days unmatched pastes, feedback and thread state are kept; the audit trail is kept (BACKUP_FIX_RETENTION_DAYS).')
@minValue(1)
@maxValue(3650)
param retentionDays int = 90

@description('Slack Web API base URL: GovSlack or an egress proxy (SLACK_API_URL).')
param slackApiUrl string = 'https://slack.com/api/'

@description('Seconds between polls of Azure long-running operations (BACKUP_FIX_AZURE_POLLING_INTERVAL).')
@minValue(0)
@maxValue(600)
param azurePollingInterval int = 30

@description('Seconds to wait for Resource Manager to answer (BACKUP_FIX_AZURE_READ_TIMEOUT).')
@minValue(1)
@maxValue(600)
param azureReadTimeout int = 60

@description('Resource Manager retries wait about this factor times 2^n seconds, a number as text (BACKUP_FIX_AZURE_RETRY_BACKOFF).')
param azureRetryBackoff string = '0.8'

@description('Seconds after which a running request whose replica stopped renewing its lease is settled by another (BACKUP_FIX_LEASE_SECONDS).')
@minValue(1)
@maxValue(600)
param leaseSeconds int = 10

@description('Entra ID secure webhook: tenant id of the alert API app; empty: off (BACKUP_FIX_ALERT_TENANT_ID).')
param alertTenantId string = ''

@description('Entra ID secure webhook: the API app\'s client id and/or Application ID URI (BACKUP_FIX_ALERT_AUDIENCE).')
param alertAudience array = []

@description('Signing keys URL overriding the tenant\'s metadata (sovereign clouds); empty: from the metadata (BACKUP_FIX_ALERT_JWKS_URL).')
param alertJwksUrl string = ''

@description('Default channel id for incidents and the digest; empty: proactive posting off (BACKUP_FIX_ALERT_CHANNEL).')
param alertChannel string = ''

@description('scope=channel pairs routing incidents: vault id, subscription id or /subscriptions/<id>/resourceGroups/<rg> (BACKUP_FIX_ALERT_ROUTES).')
param alertRoutes array = []

@description('Daily digest time, HH:MM UTC; empty: no digest (BACKUP_FIX_DIGEST_TIME).')
param digestTime string = ''

@description('Channel id of the digest; empty: the alert channel (BACKUP_FIX_DIGEST_CHANNEL).')
param digestChannel string = ''

@description('Subscription ids and mg:<management group id> entries Resource Graph searches; empty: no polling (BACKUP_FIX_SCOPES).')
param graphScopes array = []

@description('Minutes between Resource Graph polls for failed jobs, 0 = off; used only with graphScopes (BACKUP_FIX_POLL_MINUTES).')
@minValue(0)
@maxValue(1440)
param pollMinutes int = 10

@description('Resource Graph base URL override; empty: the cloud\'s Resource Manager (AZURE_RESOURCE_GRAPH_ENDPOINT).')
param resourceGraphEndpoint string = ''

@description('Assign Reader to the identity on the subscriptions in graphScopes (management groups: by hand, see deploy/README.md).')
param graphReader bool = true

@description('Azure cloud of the vaults (AZURE_CLOUD).')
@allowed(['AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment'])
param azureCloud string = 'AzureCloud'

@description('Fewest replicas: two, so one answers while the other restarts (they share PostgreSQL).')
@minValue(2)
param minReplicas int = 2

@description('Most replicas under load.')
@minValue(2)
param maxReplicas int = 6

@description('Concurrent HTTP requests per replica before another replica starts.')
param concurrentRequests int = 50

@description('vCPU per replica, in steps of 0.25.')
param cpu string = '0.5'

@description('Memory per replica: 2 GiB per vCPU.')
param memory string = '1Gi'

@description('Port of /healthz, /readyz and /metrics (BACKUP_FIX_PROBE_PORT); the ingress never routes to it.')
@minValue(1024)
@maxValue(65535)
param probePort int = 9090

@description('Let apps inside the environment (a Prometheus scraper) reach probePort; never the internet.')
param metricsInEnvironment bool = false

var role = loadJsonContent('role-definition.json')
// One assignment per subscription holding a vault: the VMs, their AzureBackupRG_* restore-point
// groups and the locks on them live in resource groups the bot only learns at run time.
// Without vaults the role is still defined (on this subscription), just not assigned anywhere.
var vaultSubscriptions = union(map(vaultIds, id => split(id, '/')[2]), [])
var roleScopes = empty(vaultSubscriptions) ? [subscription().subscriptionId] : vaultSubscriptions
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
// Resource Graph answers a query with the rows its caller may read, so polling needs read access
// on every scope it searches: the built-in Reader on each listed subscription (a management group
// is assigned by hand: a resource-group deployment cannot reach that scope).
var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
var readerSubscriptions = graphReader ? filter(graphScopes, s => !startsWith(toLower(s), 'mg:')) : []

// Created beforehand (deploy/README.md), so that its AcrPull on the registry has settled when
// the first revision pulls the image.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// The identity reads the secrets (and nothing else in the vault) for the Key Vault references.
resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

module operatorRole 'operator-role.bicep' = {
  name: '${name}-operator-role'
  scope: subscription()
  params: {
    roleName: '${role.roleName} (${name})'
    description: role.description
    actions: role.actions
    assignableSubscriptions: roleScopes
  }
}

module operatorAssignment 'operator-assignment.bicep' = [for sub in vaultSubscriptions: {
  name: '${name}-operator-${uniqueString(sub)}'
  scope: subscription(sub)
  params: {
    roleDefinitionId: operatorRole.outputs.roleDefinitionId
    principalId: identity.properties.principalId
  }
}]

module readerAssignment 'operator-assignment.bicep' = [for sub in readerSubscriptions: {
  name: '${name}-reader-${uniqueString(sub)}'
  scope: subscription(sub)
  params: {
    roleDefinitionId: subscriptionResourceId(sub, 'Microsoft.Authorization/roleDefinitions', reader)
    principalId: identity.properties.principalId
  }
}]

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 3000
        transport: 'http'
        allowInsecure: false
        // Only inside the environment, and only when asked for: external stays false.
        additionalPortMappings: metricsInEnvironment ? [
          {
            external: false
            targetPort: probePort
          }
        ] : []
      }
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          identity: identity.id
        }
      ]
      // Key Vault references only: no secret value passes through this template.
      secrets: concat([
        {
          name: 'slack-bot-token'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${slackBotTokenSecret}'
          identity: identity.id
        }
        {
          name: 'slack-signing-secret'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${slackSigningSecretSecret}'
          identity: identity.id
        }
        {
          name: 'database-url'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${databaseUrlSecret}'
          identity: identity.id
        }
        {
          name: 'signing-key'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${signingKeySecret}'
          identity: identity.id
        }
      ], empty(alertTokenSecret) ? [] : [
        {
          name: 'alert-token'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${alertTokenSecret}'
          identity: identity.id
        }
      ])
    }
    template: {
      containers: [
        {
          name: 'backup-fix'
          image: image
          args: ['serve', '--http', '--port', '3000']
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat([
            { name: 'SLACK_BOT_TOKEN', secretRef: 'slack-bot-token' }
            { name: 'SLACK_SIGNING_SECRET', secretRef: 'slack-signing-secret' }
            { name: 'BACKUP_FIX_DATABASE_URL', secretRef: 'database-url' }
            { name: 'BACKUP_FIX_SIGNING_KEY', secretRef: 'signing-key' }
            { name: 'SLACK_API_URL', value: slackApiUrl }
            { name: 'BACKUP_FIX_VAULTS', value: join(vaultIds, ',') }
            { name: 'BACKUP_FIX_APPROVERS', value: join(approvers, ',') }
            { name: 'BACKUP_FIX_ENABLED_ACTIONS', value: join(enabledActions, ',') }
            { name: 'BACKUP_FIX_CHANNELS', value: join(channels, ',') }
            { name: 'BACKUP_FIX_ACTION_CHANNELS', value: join(actionChannels, ',') }
            { name: 'BACKUP_FIX_APPROVAL_TTL_MINUTES', value: string(approvalTtlMinutes) }
            { name: 'BACKUP_FIX_NOTIFY_APPROVERS', value: string(notifyApprovers) }
            { name: 'BACKUP_FIX_EXPLAIN_EMOJI', value: explainEmoji }
            { name: 'BACKUP_FIX_RETENTION_DAYS', value: string(retentionDays) }
            { name: 'BACKUP_FIX_AZURE_POLLING_INTERVAL', value: string(azurePollingInterval) }
            { name: 'BACKUP_FIX_AZURE_READ_TIMEOUT', value: string(azureReadTimeout) }
            { name: 'BACKUP_FIX_AZURE_RETRY_BACKOFF', value: azureRetryBackoff }
            { name: 'BACKUP_FIX_LEASE_SECONDS', value: string(leaseSeconds) }
            { name: 'AZURE_CLOUD', value: azureCloud }
            { name: 'BACKUP_FIX_PROBE_PORT', value: string(probePort) }
            // Proactive: empty values leave it off (POST /azure/alerts answers 404, nothing polls).
            { name: 'BACKUP_FIX_ALERT_TENANT_ID', value: alertTenantId }
            { name: 'BACKUP_FIX_ALERT_AUDIENCE', value: join(alertAudience, ',') }
            { name: 'BACKUP_FIX_ALERT_JWKS_URL', value: alertJwksUrl }
            { name: 'BACKUP_FIX_ALERT_CHANNEL', value: alertChannel }
            { name: 'BACKUP_FIX_ALERT_ROUTES', value: join(alertRoutes, ',') }
            { name: 'BACKUP_FIX_DIGEST_TIME', value: digestTime }
            { name: 'BACKUP_FIX_DIGEST_CHANNEL', value: digestChannel }
            { name: 'BACKUP_FIX_SCOPES', value: join(graphScopes, ',') }
            // The bot refuses a poll interval without scopes: 0 (off) unless scopes are given.
            { name: 'BACKUP_FIX_POLL_MINUTES', value: empty(graphScopes) ? '0' : string(pollMinutes) }
            { name: 'AZURE_RESOURCE_GRAPH_ENDPOINT', value: resourceGraphEndpoint }
            // DefaultAzureCredential picks this user-assigned identity, and only production
            // credentials are tried.
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            { name: 'AZURE_TOKEN_CREDENTIALS', value: 'prod' }
          ], empty(alertTokenSecret) ? [] : [
            { name: 'BACKUP_FIX_ALERT_TOKEN', secretRef: 'alert-token' }
          ])
          probes: [
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: probePort }
              periodSeconds: 2
              failureThreshold: 30
            }
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: probePort }
              periodSeconds: 15
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: probePort }
              periodSeconds: 5
              failureThreshold: 2
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    secretsReader // the Key Vault references resolve only once the identity may read secrets
    operatorAssignment
    readerAssignment // the first Resource Graph poll reads with it
  ]
}

@description('Slack\'s request URL: put it into deploy/slack-manifest-http.yaml.')
output slackRequestUrl string = 'https://${app.properties.configuration.ingress.fqdn}/slack/events'

@description('Azure Monitor action group webhook: add ?token=<BACKUP_FIX_ALERT_TOKEN>, or use it as a secure webhook.')
output alertWebhookUrl string = 'https://${app.properties.configuration.ingress.fqdn}/azure/alerts'

@description('Client id of the bot\'s identity (what AZURE_CLIENT_ID holds).')
output identityClientId string = identity.properties.clientId

@description('Principal id of the bot\'s identity, for further role assignments.')
output identityPrincipalId string = identity.properties.principalId
