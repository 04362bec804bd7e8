// Package parts models city components (部件): the 16-digit identification
// Code, the class catalogue, the Part record with its attributes and
// geometry, and the Registry that indexes millions of them in memory.
//
// A Code is 6 digits of county (GB/T 2260) + 2 of major class + 2 of minor
// class + 6 of serial, e.g. 3205080101000001. The 4-digit minor class
// (major+minor, e.g. 0101 water-supply cover) is a Class.
package parts
