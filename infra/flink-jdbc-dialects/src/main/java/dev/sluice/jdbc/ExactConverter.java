package dev.sluice.jdbc;

import org.apache.flink.connector.jdbc.core.database.dialect.AbstractDialectConverter;
import org.apache.flink.connector.jdbc.statement.FieldNamedPreparedStatement;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimestampType;

import java.io.Serializable;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Reads and writes every value exactly: each column through the typed getter of its Flink type,
 * dates and times through java.time (proleptic Gregorian, nanoseconds kept), decimals refused
 * rather than rounded or nulled when they do not fit. Flink's own converter goes through
 * java.sql.Date and Timestamp, whose hybrid Julian calendar moves dates of October 1582 and
 * before, and binds timestamps with setTimestamp, which MySQL Connector/J truncates to whole
 * seconds against MariaDB (it reads MariaDB's "5.5.5-10.x" version as a server without
 * fractional seconds). MySQL-family writes therefore send temporal values as ISO text, which
 * the server converts exactly whatever the driver.
 */
public class ExactConverter extends AbstractDialectConverter {

    private static final long serialVersionUID = 1L;

    /** Which family of database the statements go to. */
    public enum Flavor {
        POSTGRES,
        MYSQL
    }

    /** Reads one column of the current row as Flink's internal value (null for SQL NULL). */
    @FunctionalInterface
    interface FieldReader extends Serializable {
        Object read(ResultSet resultSet, int column, int sqlType) throws SQLException;
    }

    private static final DateTimeFormatter MYSQL_DATETIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");
    private static final DateTimeFormatter MYSQL_TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final Flavor flavor;
    private final FieldReader[] readers;
    // Built here, not by the super constructor's createNullableExternalConverter calls, which
    // run before `flavor` is assigned.
    private final JdbcSerializationConverter[] writers;

    public ExactConverter(RowType rowType, Flavor flavor) {
        super(rowType);
        this.flavor = flavor;
        this.readers = new FieldReader[rowType.getFieldCount()];
        this.writers = new JdbcSerializationConverter[rowType.getFieldCount()];
        for (int i = 0; i < readers.length; i++) {
            readers[i] = reader(rowType.getFields().get(i).getName(), rowType.getTypeAt(i));
            writers[i] = writer(rowType.getTypeAt(i));
        }
    }

    @Override
    public FieldNamedPreparedStatement toExternal(
            RowData row, FieldNamedPreparedStatement statement) throws SQLException {
        for (int i = 0; i < writers.length; i++) {
            writers[i].serialize(row, i, statement);
        }
        return statement;
    }

    @Override
    public String converterName() {
        return "sluice-" + flavor.name().toLowerCase();
    }

    // The JDBC types of the columns of the result set being read, looked up once per result set.
    private transient ResultSet typesOf;
    private transient int[] sqlTypes;

    @Override
    public RowData toInternal(ResultSet resultSet) throws SQLException {
        if (resultSet != typesOf) {
            sqlTypes = new int[readers.length];
            for (int i = 0; i < readers.length; i++) {
                sqlTypes[i] = resultSet.getMetaData().getColumnType(i + 1);
            }
            typesOf = resultSet;
        }
        GenericRowData row = new GenericRowData(readers.length);
        for (int i = 0; i < readers.length; i++) {
            row.setField(i, readers[i].read(resultSet, i + 1, sqlTypes[i]));
        }
        return row;
    }

    private FieldReader reader(String field, LogicalType type) {
        switch (type.getTypeRoot()) {
            case BOOLEAN:
                return (rs, c, t) -> nullIfWas(rs, rs.getBoolean(c));
            case TINYINT:
                return (rs, c, t) -> nullIfWas(rs, rs.getByte(c));
            case SMALLINT:
                return (rs, c, t) -> nullIfWas(rs, rs.getShort(c));
            case INTEGER:
                return (rs, c, t) -> nullIfWas(rs, rs.getInt(c));
            case BIGINT:
                return (rs, c, t) -> nullIfWas(rs, rs.getLong(c));
            case FLOAT:
                return (rs, c, t) -> nullIfWas(rs, rs.getFloat(c));
            case DOUBLE:
                return (rs, c, t) -> nullIfWas(rs, rs.getDouble(c));
            case DECIMAL:
                DecimalType decimal = (DecimalType) type;
                int precision = decimal.getPrecision();
                int scale = decimal.getScale();
                return (rs, c, t) -> {
                    BigDecimal value = rs.getBigDecimal(c);
                    return value == null ? null : exactDecimal(field, value, precision, scale);
                };
            case CHAR:
            case VARCHAR:
                return (rs, c, t) -> {
                    String value;
                    if (flavor == Flavor.MYSQL && t == Types.TIME) {
                        // A time read as text, formatted here: MariaDB Connector/J's binary
                        // protocol prints 00:00:00.001 as "00:00:00.1000".
                        LocalTime time = rs.getObject(c, LocalTime.class);
                        value = time == null ? null : DateTimeFormatter.ISO_LOCAL_TIME.format(time);
                    } else {
                        value = rs.getString(c);
                    }
                    return value == null ? null : StringData.fromString(value);
                };
            case BINARY:
            case VARBINARY:
                return (rs, c, t) -> rs.getBytes(c);
            case DATE:
                return (rs, c, t) -> {
                    LocalDate value = rs.getObject(c, LocalDate.class);
                    return value == null ? null : epochDay(field, value);
                };
            case TIME_WITHOUT_TIME_ZONE:
                return (rs, c, t) -> {
                    LocalTime value = rs.getObject(c, LocalTime.class);
                    return value == null ? null : millisOfDay(field, value);
                };
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return (rs, c, t) -> {
                    LocalDateTime value = rs.getObject(c, LocalDateTime.class);
                    return value == null
                            ? null
                            : TimestampData.fromLocalDateTime(finite(field, value));
                };
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                if (flavor == Flavor.POSTGRES) {
                    return (rs, c, t) -> {
                        OffsetDateTime value = rs.getObject(c, OffsetDateTime.class);
                        return value == null
                                ? null
                                : TimestampData.fromInstant(finite(field, value).toInstant());
                    };
                }
                // MySQL-family sessions run in UTC (the compiler's URL settings).
                return (rs, c, t) -> {
                    LocalDateTime value = rs.getObject(c, LocalDateTime.class);
                    return value == null
                            ? null
                            : TimestampData.fromInstant(value.toInstant(ZoneOffset.UTC));
                };
            default:
                JdbcDeserializationConverter fallback = createNullableInternalConverter(type);
                return (rs, c, t) -> fallback.deserialize(rs.getObject(c));
        }
    }

    /**
     * Flink's converter has no TIMESTAMP_LTZ; this converter reads it itself ({@link #readers}),
     * so the super constructor only needs not to refuse it.
     */
    @Override
    protected JdbcDeserializationConverter createInternalConverter(LogicalType type) {
        if (type.getTypeRoot() == LogicalTypeRoot.TIMESTAMP_WITH_LOCAL_TIME_ZONE) {
            return value -> {
                throw new IllegalStateException("ExactConverter reads through its own readers");
            };
        }
        return super.createInternalConverter(type);
    }

    /** The super constructor's converters are not used (see {@link #writers}). */
    @Override
    protected JdbcSerializationConverter createNullableExternalConverter(LogicalType type) {
        return (row, index, statement) -> {
            throw new IllegalStateException("ExactConverter writes through its own writers");
        };
    }

    private JdbcSerializationConverter writer(LogicalType type) {
        JdbcSerializationConverter writer = exactWriter(type);
        int sqlType = sqlType(type);
        return (row, index, statement) -> {
            if (row == null || row.isNullAt(index)) {
                statement.setNull(index, sqlType);
            } else {
                writer.serialize(row, index, statement);
            }
        };
    }

    private JdbcSerializationConverter exactWriter(LogicalType type) {
        boolean mysql = flavor == Flavor.MYSQL;
        switch (type.getTypeRoot()) {
            case FLOAT:
                if (mysql) {
                    // Connector/J prints a float by its shortest decimal form, and MySQL range-
                    // checks FLOAT against a rounded bound: 3.4028235E38 (Float.MAX_VALUE) is "out of
                    // range". The exact value widened to a double is within it.
                    return (row, index, statement) ->
                            statement.setDouble(index, row.getFloat(index));
                }
                return super.createExternalConverter(type);
            case DATE:
                return (row, index, statement) -> {
                    LocalDate date = LocalDate.ofEpochDay(row.getInt(index));
                    setTemporal(
                            statement,
                            index,
                            date,
                            mysql ? date.toString() : postgresBcText(date, null, null));
                };
            case TIME_WITHOUT_TIME_ZONE:
                return (row, index, statement) -> {
                    LocalTime time = LocalTime.ofNanoOfDay(row.getInt(index) * 1_000_000L);
                    setTemporal(statement, index, time, mysql ? MYSQL_TIME.format(time) : null);
                };
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                int precision = ((TimestampType) type).getPrecision();
                return (row, index, statement) -> {
                    LocalDateTime value = row.getTimestamp(index, precision).toLocalDateTime();
                    setTemporal(
                            statement,
                            index,
                            value,
                            mysql
                                    ? MYSQL_DATETIME.format(value)
                                    : postgresBcText(
                                            value.toLocalDate(), value.toLocalTime(), null));
                };
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                int ltzPrecision = ((LocalZonedTimestampType) type).getPrecision();
                return (row, index, statement) -> {
                    OffsetDateTime value =
                            row.getTimestamp(index, ltzPrecision)
                                    .toInstant()
                                    .atOffset(ZoneOffset.UTC);
                    setTemporal(
                            statement,
                            index,
                            value,
                            mysql
                                    ? MYSQL_DATETIME.format(value.toLocalDateTime())
                                    : postgresBcText(
                                            value.toLocalDate(), value.toLocalTime(), "+00"));
                };
            default:
                return super.createExternalConverter(type);
        }
    }

    /**
     * PostgreSQL takes java.time objects, but those before 4713 BC as text (below); MySQL-family
     * servers always get the exact text.
     */
    private static void setTemporal(
            FieldNamedPreparedStatement statement, int index, Object value, String text)
            throws SQLException {
        if (text != null) {
            statement.setString(index, text);
        } else {
            statement.setObject(index, value);
        }
    }

    /** ISO year -4712 is 4713 BC: the PostgreSQL driver writes anything earlier as -infinity. */
    private static final int EARLIEST_DRIVER_YEAR = -4712;

    /**
     * PostgreSQL's own text of a date or timestamp before 4713 BC (its range starts at 4714-11-24
     * BC), which the driver would write as {@code -infinity}; {@code null} for later values, which
     * the driver writes exactly. Strings are bound untyped on PostgreSQL targets, so the server
     * reads the text as the column's type. ISO year 0 is 1 BC.
     */
    static String postgresBcText(LocalDate date, LocalTime time, String offset) {
        if (date.getYear() >= EARLIEST_DRIVER_YEAR) {
            return null;
        }
        StringBuilder text =
                new StringBuilder(
                        String.format(
                                "%04d-%02d-%02d",
                                1 - date.getYear(),
                                date.getMonthValue(),
                                date.getDayOfMonth()));
        if (time != null) {
            text.append(' ').append(DateTimeFormatter.ISO_LOCAL_TIME.format(time));
        }
        if (offset != null) {
            text.append(offset);
        }
        return text.append(" BC").toString();
    }

    /** A date as Flink's day number; PostgreSQL's {@code infinity} has none. */
    static int epochDay(String field, LocalDate value) throws SQLException {
        if (value.equals(LocalDate.MAX) || value.equals(LocalDate.MIN)) {
            throw infinity(field);
        }
        long day = value.toEpochDay();
        if (day < Integer.MIN_VALUE || day > Integer.MAX_VALUE) {
            throw new SQLException(
                    String.format("column %s: the date %s has no Flink DATE value", field, value));
        }
        return (int) day;
    }

    static LocalDateTime finite(String field, LocalDateTime value) throws SQLException {
        if (value.equals(LocalDateTime.MAX) || value.equals(LocalDateTime.MIN)) {
            throw infinity(field);
        }
        return value;
    }

    static OffsetDateTime finite(String field, OffsetDateTime value) throws SQLException {
        if (value.equals(OffsetDateTime.MAX) || value.equals(OffsetDateTime.MIN)) {
            throw infinity(field);
        }
        return value;
    }

    private static SQLException infinity(String field) {
        return new SQLException(
                String.format(
                        "column %s: PostgreSQL's infinity or -infinity has no Flink value; filter it out",
                        field));
    }

    private int sqlType(LogicalType type) {
        switch (type.getTypeRoot()) {
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return flavor == Flavor.MYSQL ? Types.VARCHAR : Types.TIMESTAMP_WITH_TIMEZONE;
            case DATE:
            case TIME_WITHOUT_TIME_ZONE:
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                if (flavor == Flavor.MYSQL) {
                    return Types.VARCHAR;
                }
                break;
            default:
                break;
        }
        switch (type.getTypeRoot()) {
            case CHAR:
                return Types.CHAR;
            case VARCHAR:
                return Types.VARCHAR;
            case BOOLEAN:
                return Types.BOOLEAN;
            case BINARY:
                return Types.BINARY;
            case VARBINARY:
                return Types.VARBINARY;
            case TINYINT:
                return Types.TINYINT;
            case SMALLINT:
                return Types.SMALLINT;
            case INTEGER:
                return Types.INTEGER;
            case BIGINT:
                return Types.BIGINT;
            case FLOAT:
                return Types.REAL;
            case DOUBLE:
                return Types.DOUBLE;
            case DECIMAL:
                return Types.DECIMAL;
            case DATE:
                return Types.DATE;
            case TIME_WITHOUT_TIME_ZONE:
                return Types.TIME;
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return Types.TIMESTAMP;
            default:
                return Types.OTHER;
        }
    }

    private static Object nullIfWas(ResultSet resultSet, Object value) throws SQLException {
        return resultSet.wasNull() ? null : value;
    }

    /** The decimal as Flink holds it, or an error: never rounded, never turned into NULL. */
    static DecimalData exactDecimal(String field, BigDecimal value, int precision, int scale)
            throws SQLException {
        BigDecimal scaled;
        try {
            scaled = value.setScale(scale);
        } catch (ArithmeticException e) {
            throw new SQLException(
                    String.format(
                            "column %s: a value has more than %d fractional digits of DECIMAL(%d, %d)",
                            field, scale, precision, scale));
        }
        if (scaled.precision() > precision) {
            throw new SQLException(
                    String.format(
                            "column %s: a value has more than %d digits of DECIMAL(%d, %d)",
                            field, precision, precision, scale));
        }
        return DecimalData.fromBigDecimal(scaled, precision, scale);
    }

    /** Flink's TIME holds milliseconds: a finer value is an error, not a truncation. */
    static int millisOfDay(String field, LocalTime value) throws SQLException {
        if (value.getNano() % 1_000_000 != 0) {
            throw new SQLException(
                    String.format(
                            "column %s: a TIME value has digits below the millisecond, which Flink's TIME cannot hold",
                            field));
        }
        return (int) (value.toNanoOfDay() / 1_000_000L);
    }
}
