/*
 * larod-version.h - the Larod API level osprey's liblarod implements.
 *
 * larod.h includes this file; applications may also include it alone to
 * check the API level at compile time.
 */
#ifndef OSPREY_LAROD_VERSION_H
#define OSPREY_LAROD_VERSION_H

/* Larod 3.6: every function of the public liblarod 3.6 header, including
 * larodBuildTensorDims/Pitches, larodConvertVmemFdToDmabuf and
 * larodExportModel. */
#define LAROD_VERSION_MAJOR 3
#define LAROD_VERSION_MINOR 6
#define LAROD_VERSION_PATCH 0

#endif /* OSPREY_LAROD_VERSION_H */
