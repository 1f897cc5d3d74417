package dev.sluice.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The application properties of a Managed Service for Apache Flink application: the property
 * groups of its {@code EnvironmentProperties}, which MSF writes to {@value #MSF_PATH} as a JSON
 * list of {@code {"PropertyGroupId": ..., "PropertyMap": {...}}} (what {@code
 * KinesisAnalyticsRuntime.getApplicationProperties()} of {@code aws-kinesisanalytics-runtime}
 * reads; this class reads the same file without that library). MSF starts the application's
 * main class with no program arguments, so this file is how the runner learns its work.
 *
 * <p>The path can be overridden for local runs: the system property {@value #PATH_PROPERTY}, else
 * the environment variable {@value #PATH_ENV}.
 */
final class ApplicationProperties {

    static final String MSF_PATH = "/etc/flink/application_properties.json";
    static final String PATH_PROPERTY = "sluice.applicationProperties";
    static final String PATH_ENV = "SLUICE_APPLICATION_PROPERTIES";
    static final int MAX_BYTES = 256 * 1024;

    private ApplicationProperties() {}

    /** Where the properties are read from. */
    static Path location() {
        String override = AwsClients.setting(PATH_ENV, PATH_PROPERTY);
        return Path.of(override != null ? override.trim() : MSF_PATH);
    }

    /** The property groups by id, in file order. */
    static Map<String, Map<String, String>> load(Path path) throws RunnerException {
        byte[] bytes;
        try {
            if (Files.size(path) > MAX_BYTES) {
                throw new RunnerException("the application properties " + path + " are larger than " + MAX_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new RunnerException("no program arguments, and no application properties at " + path
                    + " (MSF writes them there; locally set " + PATH_ENV + "); " + RunnerArgs.USAGE);
        } catch (IOException e) {
            throw new RunnerException("the application properties " + path + " cannot be read: " + e.getMessage());
        }
        return parse(new String(bytes, StandardCharsets.UTF_8), path.toString());
    }

    static Map<String, Map<String, String>> parse(String json, String where) throws RunnerException {
        Object root;
        try {
            root = Json.parse(json);
        } catch (Json.JsonException e) {
            throw new RunnerException("the application properties " + where + " are not JSON: " + e.getMessage());
        }
        if (!(root instanceof List<?> groups)) {
            throw new RunnerException("the application properties " + where + " are not a list of property groups");
        }
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        int index = 0;
        for (Object element : groups) {
            String at = where + " [" + index++ + "]";
            if (!(element instanceof Map<?, ?> group)) {
                throw new RunnerException(at + " is not a property group object");
            }
            if (!(group.get("PropertyGroupId") instanceof String id) || id.isBlank()) {
                throw new RunnerException(at + " has no PropertyGroupId");
            }
            Object rawMap = group.get("PropertyMap");
            if (!(rawMap instanceof Map<?, ?> map)) {
                throw new RunnerException(at + " (" + id + ") has no PropertyMap object");
            }
            Map<String, String> properties = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getValue() instanceof String value)) {
                    throw new RunnerException(at + " (" + id + "): the value of " + entry.getKey() + " is not a string");
                }
                properties.put((String) entry.getKey(), value);
            }
            if (out.put(id, Collections.unmodifiableMap(properties)) != null) {
                throw new RunnerException(at + ": the property group " + id + " is given twice");
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
