namespace Quilt.Core.Hashing;

/// <summary>One object to hash among many: a name for messages, its size, and how to open it whole.</summary>
/// <param name="Name">Shown in errors (a logical key or an s3:// URL); never opened by the hashing code.</param>
/// <param name="Size">The object's size in bytes; a stream of another length is an error.</param>
/// <param name="OpenAsync">Opens a fresh stream over the whole object; the hashing code disposes it.</param>
public sealed record HashSource(string Name, long Size, Func<CancellationToken, Task<Stream>> OpenAsync);
