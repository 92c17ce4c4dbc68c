// Assigns a role to the bot's identity on one subscription: the custom role where vaults are,
// the built-in Reader where Resource Graph searches (graphScopes).
targetScope = 'subscription'

@description('Resource id of the role definition (the custom role, or Reader).')
param roleDefinitionId string

@description('Principal id of the bot\'s user-assigned identity.')
param principalId string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: {
    roleDefinitionId: roleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
