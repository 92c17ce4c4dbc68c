// The custom role: only the operations backup-fix calls (role-definition.json, via main.bicep).
targetScope = 'subscription'

@description('Display name of the role, unique in the tenant.')
param roleName string

@description('What the role is for.')
param description string

@description('The Resource Manager operations the bot calls.')
param actions array

@description('Subscriptions where the role may be assigned (those holding the vaults).')
param assignableSubscriptions array

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: description
    type: 'customRole'
    permissions: [
      {
        actions: actions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [for sub in assignableSubscriptions: '/subscriptions/${sub}']
  }
}

@description('Resource id of the role definition, for its assignments.')
output roleDefinitionId string = role.id
