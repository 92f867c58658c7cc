// `attention-lab export` through the code the binary runs: the shared parser and --model
// resolver of cli_common, every format opened by a real reader, and the exit codes.

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <string>
#include <vector>

#include "cli_export.h"

namespace attn::cli {
namespace {

const char* kSentence = "The black cat drank the milk";

class ExportCommandTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(m_dir.isValid()); }
    QString path(const QString& name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// Fails on XML errors; returns nothing else.
void svgText(const QByteArray& svg, QString* error) {
    QXmlStreamReader xml(svg);
    while (!xml.atEnd()) xml.readNext();
    if (xml.hasError()) *error = xml.errorString();
}

int runCli(std::vector<std::string> args) {
    args.insert(args.begin(), {"attention-lab", "export"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return runExportCommand(static_cast<int>(args.size()), argv.data());
}

TEST_F(ExportCommandTest, WritesEachFormat) {
    const std::string base = m_dir.path().toStdString();
    ASSERT_EQ(runCli({"--text", kSentence, "--view", "weights", "--out", base + "/cli.png",
                      "--width", "640", "--height", "400", "--dpi", "96"}),
              0);
    EXPECT_EQ(QImage(path("cli.png")).size(), QSize(640, 400));

    ASSERT_EQ(runCli({"--text", kSentence, "--view", "scores", "--format", "csv", "--out",
                      base + "/cli.csv", "--head", "1"}),
              0);
    const QString csv = QString::fromUtf8(readAll(path("cli.csv")));
    EXPECT_EQ(csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 7);
    EXPECT_TRUE(csv.startsWith(QStringLiteral(",The,black,cat")));

    ASSERT_EQ(runCli({"--text", kSentence, "--view", "pe", "--out", base + "/pe.json", "--d-model",
                      "16", "--heads", "4"}),
              0);
    const QJsonObject pe = QJsonDocument::fromJson(readAll(path("pe.json"))).object();
    EXPECT_EQ(pe["rows"].toArray().size(), 6);
    EXPECT_EQ(pe["cols"].toArray().size(), 16);

    ASSERT_EQ(runCli({"--text", kSentence, "--view", "values", "--out", base + "/values.svg"}), 0);
    QString error;
    svgText(readAll(path("values.svg")), &error);
    EXPECT_TRUE(error.isEmpty()) << error.toStdString();

    ASSERT_EQ(runCli({"--text", kSentence, "--view", "heads", "--out", base + "/grid.pdf",
                      "--heads", "4", "--d-model", "16"}),
              0);
    EXPECT_TRUE(readAll(path("grid.pdf")).startsWith("%PDF"));

    ASSERT_EQ(
        runCli({"--text", kSentence, "--view", "heads", "--layer", "all", "--layers", "2", "--out",
                base + "/every/", "--width", "320", "--height", "240", "--dpi", "96"}),
        0);
    EXPECT_EQ(QDir(path("every")).entryList({"*.png"}).size(), 4);  // 2 layers × 2 heads
    // Counted from 1, as the window shows layers and heads.
    EXPECT_TRUE(QFileInfo::exists(path("every/L1_H1_weights.png")));
    EXPECT_TRUE(QFileInfo::exists(path("every/L2_H2_weights.png")));
    EXPECT_TRUE(QDir(path("every")).entryList({"L0_*", "*_H0_*"}).isEmpty());
}

TEST_F(ExportCommandTest, SlideOptionsCropTitleAndEnlargeText) {
    const std::string base = m_dir.path().toStdString();
    ASSERT_EQ(runCli({"--text", kSentence, "--out", base + "/full.png", "--width", "1600",
                      "--height", "1600", "--dpi", "96"}),
              0);
    ASSERT_EQ(runCli({"--text", kSentence, "--out", base + "/slide.png", "--width", "1600",
                      "--height", "1600", "--dpi", "96", "--crop", "--presentation", "--title",
                      "english · Layer 1 · Head 1"}),
              0);
    const QImage full(path("full.png"));
    const QImage slide(path("slide.png"));
    EXPECT_EQ(full.size(), QSize(1600, 1600));
    ASSERT_FALSE(slide.isNull());
    // A square 6 × 6 matrix in a square canvas: the crop leaves out some white, never adds.
    EXPECT_LE(slide.width(), 1600);
    EXPECT_LE(slide.height(), 1600);
    EXPECT_LT(slide.width() * slide.height(), 1600 * 1600);
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.png", "--layer", "0"}), 2);
    EXPECT_FALSE(QFileInfo::exists(path("x.png")));
}

TEST_F(ExportCommandTest, RefusesBadArgumentsAndUnwritablePaths) {
    const std::string base = m_dir.path().toStdString();
    EXPECT_EQ(runCli({"--text", kSentence, "--view", "nonsense", "--out", base + "/x.png"}), 2);
    EXPECT_EQ(runCli({"--view", "weights", "--out", base + "/x.png"}), 2);  // no text
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.bmp"}), 2);  // unknown suffix
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.png", "--bogus", "1"}), 2);
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.png", "--head", "9"}), 2);
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.png", "--width", "abc"}), 2);
    EXPECT_EQ(runCli({"--text", kSentence, "--view", "heads", "--out", base + "/x.csv"}), 2);
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/x.png", "--pe", "wavy"}), 2);
    EXPECT_EQ(runCli({"--text", kSentence, "--view", "heads", "--layer", "3", "--out",
                      base + "/nolayer/"}),
              2);
    EXPECT_FALSE(QFileInfo::exists(path("nolayer")));
    EXPECT_FALSE(QFileInfo::exists(path("x.png")));
    EXPECT_EQ(runCli({"--text", kSentence, "--out", base + "/no/such/dir/x.png"}), 1);
    EXPECT_FALSE(QFileInfo::exists(path("no")));
    EXPECT_EQ(runCli({"--help"}), 0);
}

}  // namespace
}  // namespace attn::cli
