package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sluice.runner.StatementSplitter.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatementSplitterTest {

    private static List<String> split(String script) {
        return StatementSplitter.split(script);
    }

    @Test
    void splitsOnSemicolonsAndTrims() {
        assertEquals(
                List.of("CREATE TABLE a (x INT)", "INSERT INTO a SELECT 1"),
                split("  CREATE TABLE a (x INT);\n\nINSERT INTO a SELECT 1 ;\n"));
    }

    @Test
    void keepsLastStatementWithoutSemicolon() {
        assertEquals(List.of("SELECT 1", "SELECT 2"), split("SELECT 1; SELECT 2"));
    }

    @Test
    void dropsEmptyStatements() {
        assertEquals(List.of("SELECT 1", "SELECT 2"), split(";;  ;\nSELECT 1;;\n ; SELECT 2;  ;"));
        assertEquals(List.of(), split(""));
        assertEquals(List.of(), split(" \n\t; ;"));
    }

    @Test
    void ignoresSemicolonsInSingleQuotedStrings() {
        assertEquals(
                List.of("SET 'a' = 'x;y'", "SELECT ';'"),
                split("SET 'a' = 'x;y'; SELECT ';';"));
    }

    @Test
    void handlesEscapedQuotesInStrings() {
        assertEquals(
                List.of("SELECT 'it''s; fine'", "SELECT ''", "SELECT ''';'''"),
                split("SELECT 'it''s; fine'; SELECT ''; SELECT ''';''';"));
    }

    @Test
    void ignoresSemicolonsInBacktickIdentifiers() {
        assertEquals(
                List.of("CREATE TABLE `we;ird` (`a;b` INT, `x``;y` INT)", "SELECT 1"),
                split("CREATE TABLE `we;ird` (`a;b` INT, `x``;y` INT); SELECT 1"));
    }

    @Test
    void ignoresSemicolonsInDoubleQuotedIdentifiers() {
        assertEquals(
                List.of("SELECT \"a;b\", \"c\"\";d\" FROM t", "SELECT 2"),
                split("SELECT \"a;b\", \"c\"\";d\" FROM t; SELECT 2;"));
    }

    @Test
    void ignoresSemicolonsInLineComments() {
        assertEquals(
                List.of("SELECT 1 -- a; b\nFROM t", "SELECT 2"),
                split("-- header; not a statement\nSELECT 1 -- a; b\nFROM t; -- trailing;\nSELECT 2; -- the end; really"));
        assertEquals(List.of("SELECT 1 -- c;"), split("SELECT 1 -- c;\n;"));
    }

    @Test
    void keepsCommentsInsideStatementsAndDropsLeadingOnes() {
        assertEquals(
                List.of("INSERT INTO t /* the sink; */ SELECT x -- why; because\nFROM s"),
                split("/* leading; */ -- also leading;\nINSERT INTO t /* the sink; */ SELECT x -- why; because\nFROM s;"));
    }

    @Test
    void ignoresSemicolonsInBlockComments() {
        assertEquals(
                List.of("SELECT /*+ OPTIONS('a'='b;c') */ x FROM t", "SELECT 2"),
                split("/* one;\n two; */ SELECT /*+ OPTIONS('a'='b;c') */ x FROM t; /* ; */ SELECT 2"));
    }

    @Test
    void dropsCommentOnlyStatements() {
        assertEquals(List.of("SELECT 1"), split("SELECT 1; -- only a comment;\n/* and; another */;  ;"));
    }

    @Test
    void quotesDoNotStartInsideComments() {
        // an apostrophe in a comment must not open a string that swallows the next semicolons
        assertEquals(
                List.of("SELECT 1", "SELECT 2"),
                split("-- don't\nSELECT 1; /* it's */ SELECT 2;"));
    }

    @Test
    void commentMarkersInsideQuotesAreText() {
        assertEquals(
                List.of("SELECT '-- no; comment', '/* no; */', `--;`"),
                split("SELECT '-- no; comment', '/* no; */', `--;`;"));
    }

    @Test
    void unterminatedStringRunsToTheEnd() {
        assertEquals(List.of("SELECT 1", "SELECT 'abc; def"), split("SELECT 1; SELECT 'abc; def"));
    }

    @Test
    void unterminatedBlockCommentRunsToTheEnd() {
        assertEquals(List.of("SELECT 1"), split("SELECT 1; /* never; closed"));
    }

    @Test
    void reportsStartLines() {
        List<Statement> statements =
                StatementSplitter.splitWithLines("-- c\n\nSET 'a' = 'b';\n/* x\ny */ INSERT INTO t\nSELECT 'q\n;';\n\nSELECT 1");
        assertEquals(
                List.of(
                        new Statement("SET 'a' = 'b'", 3),
                        new Statement("INSERT INTO t\nSELECT 'q\n;'", 5),
                        new Statement("SELECT 1", 9)),
                statements);
    }
}
