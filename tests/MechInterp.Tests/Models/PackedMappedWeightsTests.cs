using MechInterp.Backends;
using System.Buffers.Binary;
using MechInterp.Backends.Cpu;
using MechInterp.Tests.Loading;
using Xunit;
using static MechInterp.Tests.Models.PackedWeightsTests;

namespace MechInterp.Tests.Models;

/// <summary>Packing a memory-mapped weight lets its clean file pages go (they are read back from the page cache on the
/// next touch), but never once the mapping holds privately written pages: dropping those would silently bring back the
/// file's values. The weights must read the same before and after packing, and written values must survive the packing
/// that follows the write. The process's page table (/proc/self/pagemap, bit 63: page present) is the independent
/// witness of which pages were dropped.</summary>
public sealed class PackedMappedWeightsTests
{
    [Fact]
    public void MappedGpt2KeepsItsWeightsThroughPackingAndKeepsValuesWrittenBeforeARepack()
    {
        using var r = new FixtureReference("gpt2-tiny");
        using var model = Load(r, mapped: true);
        var tokens = r.Tensor("input_ids");
        var mapped = model.NamedParameters().Where(p => SafeTensorsFile.IsMapped(p.Parameter.Value)).ToArray();
        var w_in = model.Blocks[0].Mlp!.W_in;
        Assert.Contains(mapped, p => ReferenceEquals(p.Parameter, w_in));
        Assert.True(w_in.Value.IsContiguous);
        var snapshot = mapped.ToDictionary(p => p.Name, p => p.Parameter.Value.ToArray<float>());

        var first = Logits(model, tokens);
        Assert.True(MaxAbsDiff(first, r.Tensor("logits").ToArray<float>()) <= 1e-4);
        var second = Logits(model, tokens); // packs every matrix and lets the mapped ones' clean pages go
        Assert.True(PackBytes(w_in) > 0, "W_in was not packed by two forwards");
        foreach (var (name, p) in mapped)
            AssertBitIdentical(snapshot[name], p.Value.ToArray<float>(), $"{name} read back after its pages were released");
        AssertBitIdentical(first, second, "second forward");
        AssertBitIdentical(first, Logits(model, tokens), "third forward (packs reused, pages read back)");

        // Write one row in the middle of W_in (a whole page of the mapping: [64, 256] floats, 1 KiB a row, 64 KiB in all),
        // then let two forwards pack it again: making that pack must not drop the privately written page.
        const int row = 32;
        long n = w_in.Value.Shape[1];
        var written = RandomValues(n, seed: 7);
        using (GradMode.NoGrad())
        using (var view = w_in.Value.Narrow(0, row, 1))
        using (var source = Tensor.FromArray(written, 1, n))
            view.CopyInPlace(source);
        Assert.Equal(0, PackBytes(w_in));
        var expected = (float[])snapshot[mapped.Single(p => ReferenceEquals(p.Parameter, w_in)).Name].Clone();
        Array.Copy(written, 0, expected, row * n, n);
        AssertBitIdentical(expected, w_in.Value.ToArray<float>(), "W_in right after the write");

        var afterWrite = Logits(model, tokens);
        AssertBitIdentical(afterWrite, Logits(model, tokens), "second forward after the write (W_in packed again)");
        Assert.True(PackBytes(w_in) > 0, "W_in was not packed again by two forwards after the write");
        AssertBitIdentical(expected, w_in.Value.ToArray<float>(), "W_in after packing it again (the written row must survive)");
        foreach (var (name, p) in mapped.Where(p => !ReferenceEquals(p.Parameter, w_in)))
            AssertBitIdentical(snapshot[name], p.Value.ToArray<float>(), $"{name} after the write into W_in");

        using var fresh = Load(r, mapped: false);
        fresh.Blocks[0].Mlp!.W_in.Value = Tensor.FromArray(expected, w_in.Value.Shape);
        var want = Logits(fresh, tokens);
        Assert.True(MaxAbsDiff(first, want) > 1e-4, "the written row does not change the logits");
        AssertBitIdentical(want, afterWrite, "forward after the write vs a fresh model with the written W_in");
        AssertBitIdentical(want, Logits(model, tokens), "third forward after the write (new pack reused)");
    }

    [Fact]
    public unsafe void APackedMappedMatrixServesProductsWithoutItsPagesUntilTheMappingIsWritten()
    {
        int page = Environment.SystemPageSize;
        const int n = 128, m = 16;
        int rowsPerPage = Math.Max(1, page / (n * sizeof(float)));
        int k = Math.Max(64, 8 * rowsPerPage); // at least 8 whole pages
        var data = RandomValues((long)k * n, seed: 11);
        using var dir = new TempDir();
        var bytes = new byte[page + data.Length * sizeof(float)]; // one page of header, then the matrix, page-aligned
        Buffer.BlockCopy(data, 0, bytes, page, data.Length * sizeof(float));
        var path = dir.Write("w.bin", bytes);

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var file = MappedFile.Open(stream, path, bytes.Length);
        CpuStorage storage;
        try
        {
            storage = CpuStorage.Map(file, page, (long)k * n, DType.Float32);
        }
        finally
        {
            file.Release(); // the storage keeps the mapping
        }
        var p = new Parameter("w", new Tensor(new CpuHandle(storage, 0, [k, n], [n, 1])));
        try
        {
            Assert.True(storage.IsWeight && storage.IsMapped);
            long start;
            fixed (float* s = storage.Span<float>()) start = (long)s;
            Assert.Equal(0, start % page);
            int pages = k * n * sizeof(float) / page;
            int ResidentPages() => Enumerable.Range(0, pages).Count(i => Resident(start + (long)i * page) == true);

            using var x = Tensor.FromArray(RandomValues(m * k, seed: 12), m, k);
            float[] Product()
            {
                using var y = x.MatMul(p.Value);
                return y.ToArray<float>();
            }
            float[] Reference()
            {
                using var copy = p.Value.Clone();
                using var y = x.MatMul(copy);
                return y.ToArray<float>();
            }

            var want = Reference(); // reads every page of the matrix
            bool witness = OperatingSystem.IsLinux() && ResidentPages() == pages; // pagemap readable and consistent
            AssertBitIdentical(want, Product(), "use 1");
            Assert.Equal(0, PackBytes(p));
            AssertBitIdentical(want, Product(), "use 2 (pack made)");
            Assert.True(PackBytes(p) > 0, "no pack after the second use");
            Assert.False(file.HasPrivateWrites, "the mapping reports private writes before any write");
            if (witness) Assert.True(ResidentPages() == 0, $"{ResidentPages()} of {pages} pages still resident after the pack was made");
            AssertBitIdentical(want, Product(), "use 3 (pack reused)");
            if (witness) Assert.True(ResidentPages() == 0, $"use 3 touched {ResidentPages()} of {pages} pages: it did not read the pack");
            AssertBitIdentical(data, p.Value.ToArray<float>(), "the matrix read back from the page cache");
            if (witness) Assert.True(ResidentPages() == pages, $"only {ResidentPages()} of {pages} pages resident after reading the matrix");

            // Overwrite the rows of the matrix's third page: a private copy-on-write page the kernel must keep.
            int row0 = 2 * rowsPerPage;
            var rows = RandomValues((long)rowsPerPage * n, seed: 13);
            using (GradMode.NoGrad())
            using (var view = p.Value.Narrow(0, row0, rowsPerPage))
            using (var source = Tensor.FromArray(rows, rowsPerPage, n))
                view.CopyInPlace(source);
            Assert.True(file.HasPrivateWrites, "the write into the mapped matrix was not recorded on its mapping");
            Assert.Equal(0, PackBytes(p));
            var expected = (float[])data.Clone();
            Array.Copy(rows, 0, expected, (long)row0 * n, rows.Length);

            var want2 = Reference();
            Assert.True(MaxAbsDiff(want, want2) > 1e-3, "the written rows hardly change the product: a stale pack would go unnoticed");
            AssertBitIdentical(want2, Product(), "use 1 after the write");
            AssertBitIdentical(want2, Product(), "use 2 after the write (pack made again)");
            Assert.True(PackBytes(p) > 0, "no pack after the second use following the write");
            AssertBitIdentical(want2, Product(), "use 3 after the write");
            if (witness) Assert.True(ResidentPages() == pages, $"packing after a write dropped {pages - ResidentPages()} of {pages} pages");
            AssertBitIdentical(expected, p.Value.ToArray<float>(), "the matrix after packing it again (the written rows must survive)");
            Assert.Equal(bytes, File.ReadAllBytes(path)); // copy-on-write: the file itself never changes
        }
        finally
        {
            p.Value.Dispose();
        }
    }

    /// <summary>Whether the page holding <paramref name="address"/> is present in this process's page table; null when
    /// /proc/self/pagemap cannot be read.</summary>
    private static bool? Resident(long address)
    {
        try
        {
            using var handle = File.OpenHandle("/proc/self/pagemap");
            Span<byte> entry = stackalloc byte[8];
            if (RandomAccess.Read(handle, entry, address / Environment.SystemPageSize * 8) != 8) return null;
            return (BinaryPrimitives.ReadUInt64LittleEndian(entry) >> 63) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }
}
