// backup-fix on Azure Container Apps: user-assigned identity, Slack secrets as Key Vault
// references, HTTP on 3000 behind the app's ingress, two or more replicas sharing PostgreSQL,
// and the custom role (role-definition.json, nothing more) assigned on the vaults' subscriptions.
// The ingress routes to port 3000 only (/slack/events, /azure/alerts); the probes and /metrics
// answer on probePort, which nothing outside the replica reaches unless metricsInEnvironment.
//
// Deploy into the bot's resource group, after the Key Vault holds the three secrets and the
// PostgreSQL server exists (deploy/README.md walks through every step):
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

@description('Recovery Services vault resource ids the bot may read and act on (BACKUP_FIX_VAULTS).')
param vaultIds array = []

@description('Slack user (U/W) and user-group (S) ids who may approve (BACKUP_FIX_APPROVERS).')
param approvers array = []

@description('Remediations that may be offered and run (BACKUP_FIX_ENABLED_ACTIONS).')
param enabledActions array = []

@description('Channel ids where pastes are answered unasked; empty: every channel (BACKUP_FIX_CHANNELS).')
param channels array = []

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
      secrets: [
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
      ]
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
          env: [
            { name: 'SLACK_BOT_TOKEN', secretRef: 'slack-bot-token' }
            { name: 'SLACK_SIGNING_SECRET', secretRef: 'slack-signing-secret' }
            { name: 'BACKUP_FIX_DATABASE_URL', secretRef: 'database-url' }
            { name: 'BACKUP_FIX_VAULTS', value: join(vaultIds, ',') }
            { name: 'BACKUP_FIX_APPROVERS', value: join(approvers, ',') }
            { name: 'BACKUP_FIX_ENABLED_ACTIONS', value: join(enabledActions, ',') }
            { name: 'BACKUP_FIX_CHANNELS', value: join(channels, ',') }
            { name: 'AZURE_CLOUD', value: azureCloud }
            { name: 'BACKUP_FIX_PROBE_PORT', value: string(probePort) }
            // DefaultAzureCredential picks this user-assigned identity, and only production
            // credentials are tried.
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            { name: 'AZURE_TOKEN_CREDENTIALS', value: 'prod' }
          ]
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
  ]
}

@description('Slack\'s request URL: put it into deploy/slack-manifest-http.yaml.')
output slackRequestUrl string = 'https://${app.properties.configuration.ingress.fqdn}/slack/events'

@description('Client id of the bot\'s identity (what AZURE_CLIENT_ID holds).')
output identityClientId string = identity.properties.clientId

@description('Principal id of the bot\'s identity, for further role assignments.')
output identityPrincipalId string = identity.properties.principalId
