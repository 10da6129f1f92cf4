import XCTest
import LSSKDData
import LSSKDTensor
@testable import LSSKDDistill

final class JointLabelTests: XCTestCase {
    /// Joint label of image i, class y, rotation j is 4y + j at row 4i + j (image-major).
    func testJointLabelsAreImageMajor() {
        XCTAssertEqual(RotationExpansion.jointLabels([2, 0, 99]),
                       [8, 9, 10, 11, 0, 1, 2, 3, 396, 397, 398, 399])
        XCTAssertEqual(RotationExpansion.unrotatedRows(count: 3), [0, 4, 8])
    }
}
