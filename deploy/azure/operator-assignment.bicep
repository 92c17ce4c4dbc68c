// Assigns the custom role to the bot's identity on one subscription that holds vaults.
targetScope = 'subscription'

@description('Resource id of the custom role definition.')
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
