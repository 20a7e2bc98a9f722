namespace Quilt.Storage;

/// <summary>A storage failure whose message is fit to show a user: what went wrong and what to do.</summary>
public class StorageException : Exception
{
    public StorageException(string message) : base(message) { }
    public StorageException(string message, Exception inner) : base(message, inner) { }
}

public sealed class ObjectNotFoundException : StorageException
{
    public ObjectNotFoundException(ObjectRef obj)
        : base($"No object at {obj}. Check the bucket and key (list the prefix to see what exists).") => Object = obj;
    public ObjectRef Object { get; }
}

public sealed class BucketNotFoundException : StorageException
{
    public BucketNotFoundException(string bucket)
        : base($"Bucket '{bucket}' does not exist or is not reachable with these credentials. Check its name: "
            + "list the buckets to see which exist (on local storage a bucket is created by its first put).") => Bucket = bucket;
    public string Bucket { get; }
}

public sealed class ObjectExistsException : StorageException
{
    public ObjectExistsException(ObjectRef obj)
        : base($"{obj} already exists and overwriting was not allowed. Choose another key or allow overwrite.") => Object = obj;
    public ObjectRef Object { get; }
}

public sealed class AccessDeniedException : StorageException
{
    public AccessDeniedException(string message) : base(message) { }
    public AccessDeniedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A bucket name, key or path that is not allowed (bad characters, '..', escapes the root).</summary>
public sealed class InvalidObjectPathException : StorageException
{
    public InvalidObjectPathException(string message) : base(message) { }
}
