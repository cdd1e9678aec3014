// The OCSA practitioner guide bot on Azure, in one resource group:
//   - App Service (Linux, container from deployment/Dockerfile) that runs the bot, HTTPS only;
//   - Azure Bot resource with the Microsoft Teams channel, pointing at the app's /api/messages;
//   - storage account for conversation state (BOT_STORAGE=blob), with a lifecycle rule that
//     deletes state blobs a day after their last change: nothing a practitioner typed about a
//     child outlives the conversation by long (the bot's own expiry, BOT_STATE_TTL_SECONDS, is
//     shorter still);
//   - an Azure Files share mounted at /app/config for the organisation's local contacts file;
//   - Key Vault for every secret; app settings hold Key Vault references, never secret values.
//
// Deploy (see deployment/RUNBOOK.md):
//   az deployment group create -g <group> -f deployment/main.bicep -p @deployment/main.parameters.json

targetScope = 'resourceGroup'

@description('Azure region for everything except the Azure Bot resource (which is global).')
param location string = resourceGroup().location

@description('Short prefix for resource names: lowercase letters and digits only (it starts the storage account name).')
@minLength(3)
@maxLength(12)
param namePrefix string = 'ocsabot'

@description('How the bot proves its identity to Teams: SingleTenant (an Entra app registration with a client secret) or UserAssignedMSI (a managed identity this template creates; no secret at all).')
@allowed([
  'SingleTenant'
  'UserAssignedMSI'
])
param microsoftAppType string = 'SingleTenant'

@description('SingleTenant only: the Entra app registration\'s application (client) id. Ignored for UserAssignedMSI.')
param microsoftAppId string = ''

@description('SingleTenant only: a client secret of that app registration. Stored in Key Vault; never in an app setting. Leave empty on later deployments to keep the stored secret.')
@secure()
param microsoftAppPassword string = ''

@description('The Entra tenant the bot belongs to.')
param microsoftAppTenantId string = subscription().tenantId

@description('Comma-separated Entra tenant ids whose users may talk to the bot (usually just yours).')
param allowedTenants string = subscription().tenantId

@description('Hosts the bot may send replies to. smba.trafficmanager.net is the public-cloud Teams service; government clouds differ.')
param allowedServiceUrlHosts string = 'smba.trafficmanager.net'

@description('The bot container image, built from deployment/Dockerfile, e.g. myregistry.azurecr.io/ocsa-bot:1.0.0.')
param containerImage string

@description('Seconds of inactivity after which a conversation\'s state is forgotten.')
@minValue(60)
param stateTtlSeconds int = 14400

@description('File name of the local contacts file in the "config" file share (empty: national routes only, and the bot says local contacts are not set up).')
param localContactsFileName string = ''

@description('Salt for hashed ids in the logs. Generated per deployment unless you pass one.')
@secure()
param logSalt string = newGuid()

@allowed([
  'B1'
  'S1'
  'P0v3'
  'P1v3'
])
param appServiceSku string = 'B1'

@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

var suffix = uniqueString(resourceGroup().id)
var storageName = take('${namePrefix}${suffix}', 24)
var vaultName = take('kv-${namePrefix}-${suffix}', 24)
var stateContainer = 'bot-state'
var configShare = 'config'
var configMountPath = '/app/config'
var botPort = '3978'
var useManagedIdentity = microsoftAppType == 'UserAssignedMSI'
var keyVaultSecretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6' // built-in "Key Vault Secrets User"

// ---------------------------------------------------------------- identity

resource botIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (useManagedIdentity) {
  name: '${namePrefix}-bot-identity'
  location: location
}

var botAppId = useManagedIdentity ? botIdentity!.properties.clientId : microsoftAppId

// ---------------------------------------------------------------- storage (state and config)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: {
    name: 'Standard_LRS'
  }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: true // the bot's BlobStorage and the App Service file mount use keys
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource stateBlobs 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: stateContainer
  properties: {
    publicAccess: 'None'
  }
}

resource stateLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-bot-state-after-1-day'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${stateContainer}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 1
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource configFiles 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: configShare
  properties: {
    shareQuota: 1
  }
}

// ---------------------------------------------------------------- secrets

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }
}

resource appPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!useManagedIdentity && !empty(microsoftAppPassword)) {
  parent: vault
  name: 'microsoft-app-password'
  properties: {
    value: microsoftAppPassword
  }
}

resource blobConnectionSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-blob-connection-string'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

resource logSaltSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-log-salt'
  properties: {
    value: logSalt
  }
}

// ---------------------------------------------------------------- app host

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${namePrefix}-plan'
  location: location
  kind: 'linux'
  sku: {
    name: appServiceSku
  }
  properties: {
    reserved: true
  }
}

var keyVaultRef = 'https://${vaultName}${environment().suffixes.keyvaultDns}/secrets'

var commonSettings = [
  { name: 'WEBSITES_PORT', value: botPort }
  { name: 'BOT_HOST', value: '0.0.0.0' }
  { name: 'BOT_PORT', value: botPort }
  { name: 'BOT_ENVIRONMENT', value: 'production' }
  { name: 'MicrosoftAppType', value: microsoftAppType }
  { name: 'MicrosoftAppId', value: botAppId }
  { name: 'MicrosoftAppTenantId', value: microsoftAppTenantId }
  { name: 'BOT_ALLOWED_TENANTS', value: allowedTenants }
  { name: 'BOT_ALLOWED_CHANNELS', value: 'msteams' }
  { name: 'BOT_ALLOWED_SERVICE_URL_HOSTS', value: allowedServiceUrlHosts }
  { name: 'BOT_STORAGE', value: 'blob' }
  { name: 'BOT_BLOB_CONNECTION_STRING', value: '@Microsoft.KeyVault(SecretUri=${keyVaultRef}/bot-blob-connection-string)' }
  { name: 'BOT_BLOB_CONTAINER', value: stateContainer }
  { name: 'BOT_STATE_TTL_SECONDS', value: string(stateTtlSeconds) }
  { name: 'BOT_LOG_SALT', value: '@Microsoft.KeyVault(SecretUri=${keyVaultRef}/bot-log-salt)' }
]

var passwordSettings = useManagedIdentity ? [] : [
  { name: 'MicrosoftAppPassword', value: '@Microsoft.KeyVault(SecretUri=${keyVaultRef}/microsoft-app-password)' }
]

var contactsSettings = empty(localContactsFileName) ? [] : [
  { name: 'LOCAL_CONTACTS_PATH', value: '${configMountPath}/${localContactsFileName}' }
]

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: '${namePrefix}-${suffix}'
  location: location
  kind: 'app,linux,container'
  identity: useManagedIdentity ? {
    type: 'SystemAssigned, UserAssigned'
    userAssignedIdentities: {
      '${botIdentity.id}': {}
    }
  } : {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: 'DOCKER|${containerImage}'
      acrUseManagedIdentityCreds: true
      alwaysOn: true
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      healthCheckPath: '/healthz'
      appSettings: concat(commonSettings, passwordSettings, contactsSettings)
      azureStorageAccounts: {
        config: {
          type: 'AzureFiles'
          accountName: storage.name
          shareName: configShare
          mountPath: configMountPath
          accessKey: storage.listKeys().keys[0].value
        }
      }
    }
  }
  dependsOn: [
    configFiles
    stateBlobs
  ]
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, app.id, keyVaultSecretsUserRole)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRole)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------- Azure Bot and the Teams channel

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: union({
    displayName: 'OCSA practitioner guide'
    endpoint: 'https://${app.properties.defaultHostName}/api/messages'
    msaAppId: botAppId
    msaAppType: microsoftAppType
    msaAppTenantId: microsoftAppTenantId
  }, useManagedIdentity ? {
    msaAppMSIResourceId: botIdentity.id
  } : {})
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
      acceptedTerms: true
    }
  }
}

// ---------------------------------------------------------------- what the next steps need

@description('The messaging endpoint registered on the Azure Bot.')
output botEndpoint string = 'https://${app.properties.defaultHostName}/api/messages'

@description('BOT_DOMAIN for `make teams-package`.')
output botDomain string = app.properties.defaultHostName

@description('MicrosoftAppId for `make teams-package` (the managed identity\'s client id with UserAssignedMSI).')
output microsoftAppId string = botAppId

@description('Where to upload the local contacts file (file share "config").')
output storageAccountName string = storage.name

output webAppName string = app.name
output webAppPrincipalId string = app.identity.principalId
