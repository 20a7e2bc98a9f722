namespace Quilt.Registry;

/// <summary>
/// Every GraphQL document the registry mode sends, in one place, so that a test can validate each against Quilt's
/// public schema (<see cref="Quilt"/>) or, for the gateway's additions, against quilt-gateway's (<see cref="GatewayAdditions"/>).
/// </summary>
public static class RegistryOperations
{
    public const string Me = """
        query Me { me { name email isAdmin role { name } roles { name } } }
        """;

    public const string BucketConfigs = """
        query BucketConfigs { bucketConfigs { name title description } }
        """;

    public const string BrowsingSessionCreate = """
        mutation BrowsingSessionCreate($scope: String!, $ttl: Int!) {
          browsingSessionCreate(scope: $scope, ttl: $ttl) {
            __typename
            ... on BrowsingSession { id expires }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string BrowsingSessionRefresh = """
        mutation BrowsingSessionRefresh($id: ID!, $ttl: Int!) {
          browsingSessionRefresh(id: $id, ttl: $ttl) {
            __typename
            ... on BrowsingSession { id expires }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string PackageConstruct = """
        mutation PackageConstruct($params: PackagePushParams!, $src: PackageConstructSource!) {
          packageConstruct(params: $params, src: $src) {
            __typename
            ... on PackagePushSuccess { package { bucket name } revision { hash } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    // ---- search (Quilt's searchPackages / searchObjects / searchMore*; answered by Elasticsearch behind a Quilt
    // stack, or by quilt-gateway's own index). Facet extents are aliased: the members' `extents` differ in type.

    private const string PackageHitFragment = """

        fragment PackageHit on SearchHitPackage {
          id score bucket name pointer hash size modified totalEntriesCount comment meta workflow
          matchLocations { name comment meta workflow }
          matchingEntries { logicalKey physicalKey size meta matchLocations { logicalKey physicalKey meta contents } }
        }
        """;

    private const string ObjectHitFragment = """

        fragment ObjectHit on SearchHitObject { id score bucket key version size modified deleted indexedContent }
        """;

    public const string SearchPackages = """
        query SearchPackages($buckets: [String!], $searchString: String, $filter: PackagesSearchFilter,
            $userMetaFilters: [PackageUserMetaPredicate!], $latestOnly: Boolean!, $size: Int, $ordering: PackageOrdering) {
          searchPackages(buckets: $buckets, searchString: $searchString, filter: $filter, userMetaFilters: $userMetaFilters, latestOnly: $latestOnly) {
            __typename
            ... on PackagesSearchResultSet {
              total
              stats {
                modified { min max }
                size { min max }
                entries { min max }
                workflow { values }
                userMeta {
                  __typename
                  ... on IPackageUserMetaFacet { path sortable }
                  ... on NumberPackageUserMetaFacet { numberExtents: extents { min max } }
                  ... on DatetimePackageUserMetaFacet { datetimeExtents: extents { min max } }
                  ... on KeywordPackageUserMetaFacet { keywordExtents: extents { values } }
                }
                userMetaTruncated
              }
              firstPage(size: $size, ordering: $ordering) {
                __typename
                ... on PackagesSearchResultSetPage { cursor hits { ...PackageHit } }
                ... on InvalidInput { errors { path message name } }
                ... on OperationError { message name }
              }
            }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """ + PackageHitFragment;

    public const string SearchMorePackages = """
        query SearchMorePackages($after: String!, $size: Int) {
          searchMorePackages(after: $after, size: $size) {
            __typename
            ... on PackagesSearchResultSetPage { cursor hits { ...PackageHit } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """ + PackageHitFragment;

    public const string SearchObjects = """
        query SearchObjects($buckets: [String!], $searchString: String, $filter: ObjectsSearchFilter, $size: Int, $order: SearchResultOrder) {
          searchObjects(buckets: $buckets, searchString: $searchString, filter: $filter) {
            __typename
            ... on ObjectsSearchResultSet {
              total
              stats { modified { min max } size { min max } ext { values } }
              firstPage(size: $size, order: $order) { cursor hits { ...ObjectHit } }
            }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """ + ObjectHitFragment;

    public const string SearchMoreObjects = """
        query SearchMoreObjects($after: String!, $size: Int) {
          searchMoreObjects(after: $after, size: $size) {
            __typename
            ... on ObjectsSearchResultSetPage { cursor hits { ...ObjectHit } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """ + ObjectHitFragment;

    public const string PackageRevisionDelete = """
        mutation PackageRevisionDelete($bucket: String!, $name: String!, $hash: String!) {
          packageRevisionDelete(bucket: $bucket, name: $name, hash: $hash) {
            __typename
            ... on OperationError { message name }
          }
        }
        """;

    public const string PackagePromote = """
        mutation PackagePromote($params: PackagePushParams!, $src: PackagePromoteSource!) {
          packagePromote(params: $params, src: $src) {
            __typename
            ... on PackagePushSuccess { package { bucket name } revision { hash } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string SwitchRole = """
        mutation SwitchRole($roleName: String!) {
          switchRole(roleName: $roleName) {
            __typename
            ... on Me { name email isAdmin role { name } roles { name } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    // ---- quilt-gateway additions (docs/gateway.md): not in Quilt's schema ----

    public const string MyGrants = """
        query MyGrants { myGrants { bucket prefix read write } }
        """;

    public const string BucketObjects = """
        query BucketObjects($bucket: String!, $prefix: String, $delimiter: String, $first: Int, $after: String) {
          bucketObjects(bucket: $bucket, prefix: $prefix, delimiter: $delimiter, first: $first, after: $after) {
            __typename
            ... on BucketObjectList { objects { key size modified etag } prefixes cursor }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string BucketObject = """
        query BucketObject($bucket: String!, $key: String!, $version: String) {
          bucketObject(bucket: $bucket, key: $key, version: $version) {
            __typename
            ... on S3Object { bucket key version size modified etag contentType metadata }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string BrowsingSessionLink = """
        mutation BrowsingSessionLink($id: ID!, $path: String!, $ttl: Int) {
          browsingSessionLink(id: $id, path: $path, ttl: $ttl) {
            __typename
            ... on BrowsingSessionLink { url expires object { version } }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string GenerateUploadUrl = """
        mutation GenerateUploadUrl($bucket: String!, $key: String!, $contentType: String) {
          generateUploadUrl(bucket: $bucket, key: $key, contentType: $contentType) { uploadUrl fields expires }
        }
        """;

    public const string MultipartUploadCreate = """
        mutation MultipartUploadCreate($bucket: String!, $key: String!, $size: Float!, $contentType: String, $partSize: Float) {
          multipartUploadCreate(bucket: $bucket, key: $key, size: $size, contentType: $contentType, partSize: $partSize) {
            __typename
            ... on MultipartUpload { id size partSize parts { partNumber uploadUrl size } expires }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string MultipartUploadComplete = """
        mutation MultipartUploadComplete($id: ID!, $parts: [MultipartUploadPartInput!]!) {
          multipartUploadComplete(id: $id, parts: $parts) {
            __typename
            ... on S3Object { bucket key version size modified etag }
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    public const string MultipartUploadAbort = """
        mutation MultipartUploadAbort($id: ID!) {
          multipartUploadAbort(id: $id) {
            __typename
            ... on InvalidInput { errors { path message name } }
            ... on OperationError { message name }
          }
        }
        """;

    /// <summary>The documents that use only Quilt's public schema: they work against a stock Quilt registry.</summary>
    public static IReadOnlyDictionary<string, string> Quilt { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(Me)] = Me,
        [nameof(BucketConfigs)] = BucketConfigs,
        [nameof(BrowsingSessionCreate)] = BrowsingSessionCreate,
        [nameof(BrowsingSessionRefresh)] = BrowsingSessionRefresh,
        [nameof(PackageConstruct)] = PackageConstruct,
        [nameof(SearchPackages)] = SearchPackages,
        [nameof(SearchMorePackages)] = SearchMorePackages,
        [nameof(SearchObjects)] = SearchObjects,
        [nameof(SearchMoreObjects)] = SearchMoreObjects,
        [nameof(PackageRevisionDelete)] = PackageRevisionDelete,
        [nameof(PackagePromote)] = PackagePromote,
        [nameof(SwitchRole)] = SwitchRole,
    };

    /// <summary>The documents that need quilt-gateway's additions (listing, object info, links, uploads).</summary>
    public static IReadOnlyDictionary<string, string> GatewayAdditions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(MyGrants)] = MyGrants,
        [nameof(BucketObjects)] = BucketObjects,
        [nameof(BucketObject)] = BucketObject,
        [nameof(BrowsingSessionLink)] = BrowsingSessionLink,
        [nameof(GenerateUploadUrl)] = GenerateUploadUrl,
        [nameof(MultipartUploadCreate)] = MultipartUploadCreate,
        [nameof(MultipartUploadComplete)] = MultipartUploadComplete,
        [nameof(MultipartUploadAbort)] = MultipartUploadAbort,
    };
}
