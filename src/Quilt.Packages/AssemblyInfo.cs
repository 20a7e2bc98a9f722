namespace Quilt.Packages;
