using MechInterp.Training.Datasets;
using Xunit;

namespace MechInterp.Tests.Training;

/// <summary>The reproduction datasets hold the structure their papers describe.</summary>
public sealed class DatasetTests
{
    [Fact]
    public void RepeatOnceRowsAreBosSegmentSegmentFiller()
    {
        var data = new RepeatedTokenSequences(vocab: 20, sequenceLength: 30, minSegment: 3, maxSegment: 9, batchSize: 8);
        var batch = data.Sample(16, new Generator(1));
        var ids = batch.Tokens.ToArray<long>();
        var mask = batch.RepeatMask.ToArray<float>();
        for (int b = 0; b < 16; b++)
        {
            int h = batch.SegmentLengths[b];
            Assert.InRange(h, 3, 9);
            Assert.Equal(0, ids[b * 30]);
            for (int t = 1; t <= h; t++) Assert.Equal(ids[b * 30 + t], ids[b * 30 + t + h]);
            for (int t = 1; t < 30; t++) Assert.InRange(ids[b * 30 + t], 1, 19);
            for (int t = 0; t < 29; t++)
                Assert.Equal(t >= h + 1 && t <= 2 * h - 1 ? 1f : 0f, mask[b * 29 + t]); // predicting A[1..h-1] of the copy
        }
        Assert.Equal(7, data.Sample(2, new Generator(2), segmentLength: 7).SegmentLengths[1]);
        Assert.Throws<ArgumentException>(() => new RepeatedTokenSequences(20, 10, 3, 5, 4));
    }

    [Fact]
    public void PeriodicRowsRepeatToTheEnd()
    {
        var data = new RepeatedTokenSequences(16, 25, 4, 6, 4, RepeatLayout.Periodic);
        var batch = data.Sample(4, new Generator(3));
        var ids = batch.Tokens.ToArray<long>();
        for (int b = 0; b < 4; b++)
            for (int t = 1 + batch.SegmentLengths[b]; t < 25; t++) Assert.Equal(ids[b * 25 + t - batch.SegmentLengths[b]], ids[b * 25 + t]);
    }

    [Fact]
    public void ModularAdditionSplitsEveryPairOnce()
    {
        var data = new ModularAddition(7, 0.3, seed: 5);
        Assert.Equal(14, data.TrainTokens.Shape[0]);                  // floor(49 * 0.3)
        Assert.Equal(35, data.TestTokens.Shape[0]);
        var seen = new HashSet<(long, long)>();
        foreach (var (tokens, labels) in new[] { (data.TrainTokens, data.TrainLabels), (data.TestTokens, data.TestLabels) })
        {
            var t = tokens.ToArray<long>();
            var l = labels.ToArray<long>();
            for (int i = 0; i < l.Length; i++)
            {
                Assert.Equal(7, t[3 * i + 2]);
                Assert.Equal((t[3 * i] + t[3 * i + 1]) % 7, l[i]);
                Assert.True(seen.Add((t[3 * i], t[3 * i + 1])));
            }
        }
        Assert.Equal(49, seen.Count);
    }
}
