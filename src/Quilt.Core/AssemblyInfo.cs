namespace Quilt.Core;
